-- load test writer: see lt.w_contact() in bench/loadtest/harness.sql
SELECT lt.w_contact();
