"""Brain age: cross-fitted regressors, bias correction, metrics."""
