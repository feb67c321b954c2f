-- Tagging-time checks of subject keys and tags, labels that follow renames
-- of their anchor and collected_at columns, and error messages that quote
-- at most 200 bytes of the input.
SET search_path = public, privacy_tags;
\set VERBOSITY default

-- Rejected input is quoted whole up to 200 bytes, then cut at a character
-- boundary and followed by "...".
CREATE FUNCTION tc_error(stmt text) RETURNS TABLE (state text, bytes int, message text)
LANGUAGE plpgsql AS $$
DECLARE
    m text;
BEGIN
    EXECUTE stmt;
    RETURN QUERY SELECT '00000'::text, 0, ''::text;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, m = MESSAGE_TEXT;
    RETURN QUERY SELECT state, octet_length(m), m;
END
$$;
CREATE TABLE tc_echo (id int);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT repeat('a', 1000000)::privacy_tag$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT repeat('é', 500000)::privacy_tag$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SELECT subject_label_type(repeat('p', 1000000) || ';')$$);
SELECT state, bytes, bytes <= 260 AS capped, right(message, 12) AS message_end
  FROM tc_error($$SECURITY LABEL FOR privacy_tags_subject ON COLUMN tc_echo.id IS 'x;$$ || repeat('y', 1000000) || $$'$$);
-- a DO block catching the error, as a client would see it
DO $$
DECLARE
    m text;
BEGIN
    PERFORM ('contact.email; ' || repeat('x', 1048576))::privacy_tag;
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT;
    RAISE NOTICE 'length %: %', octet_length(m), m;
END
$$;
-- input of 200 bytes is quoted whole, without "..."
SELECT state, bytes, right(message, 6) AS message_end
  FROM tc_error($$SELECT (repeat('b', 199) || '!')::privacy_tag$$);
SELECT state, bytes, right(message, 6) AS message_end
  FROM tc_error($$SELECT (repeat('b', 200) || '!')::privacy_tag$$);
