"""What policy teams receive: the published forecast CSV, the HTML report, the model card and the
transparency record, with disclosure control and output safety."""
