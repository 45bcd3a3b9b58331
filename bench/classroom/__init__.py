"""The classroom load benchmark (issue 6): see README.md."""
