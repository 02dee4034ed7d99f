"""Storage: the files of each cluster, served per wire spec section 5."""
