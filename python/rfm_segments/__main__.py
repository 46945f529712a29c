from rfm_segments.cli import main

raise SystemExit(main())
