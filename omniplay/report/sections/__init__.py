"""One module per report section; each exposes `section(source) -> Section`."""
