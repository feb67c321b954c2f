-- load test writer: see lt.w_order() in bench/loadtest/harness.sql
SELECT lt.w_order();
