from oaken.cli import main

main()
