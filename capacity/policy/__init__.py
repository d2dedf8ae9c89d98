"""What operators and collectivités configure: topology (plaques, components, their capacity per replica),
prices, mandates (model, loading, French validation) and the policy bundle that reads them together.

Pure: reads files through common.yamlio, never the network or the clock.
"""
