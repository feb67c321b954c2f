-- load test: the next erasure (paced), or a dry run, see lt.erase_next()
SELECT lt.erase_next();
