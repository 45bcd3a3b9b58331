from bench.classroom.run import main

main()
