"""Trainyard: verifiable ML training markets on Ethereum."""
