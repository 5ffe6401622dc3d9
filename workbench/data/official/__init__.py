"""Loaders for the official homelessness tables (H-CLIC A1 and TA1) and covariates."""
