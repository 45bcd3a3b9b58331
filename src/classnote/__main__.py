from classnote.cli import main

main()
