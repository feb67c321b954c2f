-- load test writer: see lt.w_signup() in bench/loadtest/harness.sql
SELECT lt.w_signup();
