"""`game loadtest`: drive a running server with bot clients and measure it.

Modes: `play` (K concurrent matches, moves/s and move-to-opponent latency),
`fanout` (one match, W watchers, move-to-last-watcher latency) and `idle`
(N connected clients, server memory per connection). `--target relay` drives the
bare relay of benchmarks/relay_app.py for comparison. See docs/performance.md.
"""
