from smlift.cli import main

main()
