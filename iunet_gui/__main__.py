from iunet_gui.cli import main

raise SystemExit(main())
