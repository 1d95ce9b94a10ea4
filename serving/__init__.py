"""`apptk serve`: the pipelines behind TF Serving's REST API, with batching and a page to try them.

The server speaks TF Serving's contract (`POST /v1/models/NAME:predict` with `inputs` or
`instances`, model status and metadata), so a client written for TF Serving works against both.
Each model is run through its pipeline's Python API, so the answers are those of
`Translator.load(...)(...)` and the other pipeline classes.
"""
