"""The demo: a small export rep's world (`build`) and its mail (`mail`), driven through the app
like the command line drives it."""
