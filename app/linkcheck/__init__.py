"""Link health: probe the addresses the logs cite and keep what each one answered.

`outcome` names the verdicts, `probe` asks the servers (politely, concurrently), `store`
reads what is due and writes results in bulk, `run` ties them together for the CLI.
"""
