-- load test: an access export, checked, see lt.access()
SELECT lt.access();
