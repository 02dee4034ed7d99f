from neuro_cli.main import main

main()
