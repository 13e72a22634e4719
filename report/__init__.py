"""The run-wide report: the HTML page, its figures and the headline table, from the
declared outputs of every stage of a run (imaging, brain age, probes, genetics)."""
