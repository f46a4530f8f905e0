from preuves.cli import main

main()
