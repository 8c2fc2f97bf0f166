"""The weekly digest for the coaches and /overzicht."""
