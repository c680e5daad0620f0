"""Challengers: the verifier (re-executes a sample of each job's windows as soon as they are committed) and the
whistleblower (re-checks every window of submitted results). Both dispute a wrong window and play the game."""
