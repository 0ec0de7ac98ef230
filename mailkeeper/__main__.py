from mailkeeper.cli import main

main()
