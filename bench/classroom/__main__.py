from bench.classroom.run import cli

cli()
