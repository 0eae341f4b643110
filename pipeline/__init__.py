"""The pipeline's core, free of Prefect: screen -> judge -> persist a batch of articles, detect shifts on the stored
series, record and deliver alerts, and the monitoring cycle's policy (which feeds are due, what each poll records,
what a cycle reports). Flows call it with small config records (pipeline.config); it imports nothing from flows."""
