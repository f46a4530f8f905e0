from preuves.entry import main

main()
