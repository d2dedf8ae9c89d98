"""Mandates: what each collectivité funds, guarantees, caps and pays on the plaques (floors, ceilings,
budget, exceptions, shortfall policy), how they are read and checked, and how funders combine."""
