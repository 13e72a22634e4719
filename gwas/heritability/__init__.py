"""SNP heritability and genetic correlation: GRM, embedded GREML, GCTA wrapper."""
