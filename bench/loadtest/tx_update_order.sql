-- load test writer: see lt.w_update_order() in bench/loadtest/harness.sql
SELECT lt.w_update_order();
