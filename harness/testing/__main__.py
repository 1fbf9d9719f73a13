from harness.testing.fake_server import main

main()
