-- load test: the batched purge, committing every 100 rows
CALL privacy_tags.run_purge(batch_size => 100);
