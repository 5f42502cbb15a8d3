"""percc: the Perc compiler (syntax, check, lower, emit); perc/perc is its driver."""
