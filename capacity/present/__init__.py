"""Tables, plots and reports for people: reads plans and results, computes nothing that decides replicas."""
