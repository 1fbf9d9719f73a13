"""`python -m harness.testing serve --script FILE`: the scripted stand-in endpoint (harness.testing.serve).
`python -m harness.testing [--latency S] [--answer TEXT]`: the bare fake server the benchmarks start."""

import sys

if sys.argv[1:2] == ["serve"]:
    from harness.testing.serve import main as serve

    sys.exit(serve(sys.argv[2:]))

from harness.testing.fake_server import main

main()
