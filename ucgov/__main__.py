from ucgov.cli import main

main()
