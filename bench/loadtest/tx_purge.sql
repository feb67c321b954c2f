-- load test: privacy_tags.purge() (one in five a dry run), see lt.purge()
SELECT lt.purge();
