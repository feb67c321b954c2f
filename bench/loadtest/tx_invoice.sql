-- load test writer: see lt.w_invoice() in bench/loadtest/harness.sql
SELECT lt.w_invoice();
