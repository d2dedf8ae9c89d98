"""Learning from metrics: the Prometheus source, history shaping, the fitter, synthetic history, backtests.

Adapters (source.py, history.py) talk to the network; everything else is pure and takes arrays, so the
fitter and the backtest are tested and benchmarked without a server.
"""
