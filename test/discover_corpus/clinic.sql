-- Labelled corpus: a clinic with Art. 9 data (patients, clinicians, visits
-- partitioned by year with foreign keys on the partitions only, diagnoses,
-- prescriptions linked without a foreign key, wearable readings).
CREATE SCHEMA clinic;
CREATE TABLE clinic.patients (id int PRIMARY KEY, name text NOT NULL, pnr text, phone text, email text,
  born date, gender text, address text, postcode text);
INSERT INTO clinic.patients SELECT i, corpus_util.given(i) || ' ' || corpus_util.surname(i), corpus_util.personnummer(i + 5000),
  corpus_util.phone(i + 5000), corpus_util.email(i + 5000), corpus_util.birth_date(i + 5000), corpus_util.pick('{F,M,X}', i),
  corpus_util.street(i), corpus_util.postal_code(i)
  FROM generate_series(1, 350) i;
CREATE TABLE clinic.clinicians (id int PRIMARY KEY, full_name text NOT NULL, title text, license_no text, email text);
INSERT INTO clinic.clinicians SELECT i, corpus_util.given(i + 11) || ' ' || corpus_util.surname(i + 5), corpus_util.pick('{Dr,Nurse,Midwife}', i),
  'LIC' || (10000 + i), corpus_util.email(i + 9000) FROM generate_series(1, 25) i;
CREATE TABLE clinic.rooms (id int PRIMARY KEY, name text, floor int, coordinates text);
INSERT INTO clinic.rooms SELECT i, 'Room ' || i, i % 4, corpus_util.geo(i) FROM generate_series(1, 30) i;
CREATE TABLE clinic.drugs (id int PRIMARY KEY, name text, atc_code text, description text);
INSERT INTO clinic.drugs SELECT i, corpus_util.pick('{Alvedon,Ipren,Waran,Insulin,Amoxicillin,Metformin}', i) || ' ' || (i * 50) || ' mg',
  'N02BE0' || (i % 10), 'Tablet' FROM generate_series(1, 40) i;
CREATE TABLE clinic.visits (id bigint, patient_id int NOT NULL, clinician_id int, room_id int, visited_at timestamptz NOT NULL,
  reason text, PRIMARY KEY (id, visited_at)) PARTITION BY RANGE (visited_at);
CREATE TABLE clinic.visits_2023 PARTITION OF clinic.visits FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE clinic.visits_2024 PARTITION OF clinic.visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE clinic.visits_2023 ADD FOREIGN KEY (patient_id) REFERENCES clinic.patients;
ALTER TABLE clinic.visits_2024 ADD FOREIGN KEY (patient_id) REFERENCES clinic.patients;
ALTER TABLE clinic.visits ADD FOREIGN KEY (room_id) REFERENCES clinic.rooms;
INSERT INTO clinic.visits SELECT i, 1 + i % 350, 1 + i % 25, 1 + i % 30, timestamptz '2023-03-01' + i * interval '9 hours',
  corpus_util.pick('{check-up,fever,back pain,follow-up,vaccination}', i) FROM generate_series(1, 1500) i;
CREATE UNIQUE INDEX ON clinic.visits_2023 (id);
CREATE UNIQUE INDEX ON clinic.visits_2024 (id);
CREATE TABLE clinic.diagnoses (id serial PRIMARY KEY, visit_id bigint NOT NULL, icd10 text, diagnosed_on date, notes text);
ALTER TABLE clinic.diagnoses ADD FOREIGN KEY (visit_id) REFERENCES clinic.visits_2023 (id) NOT VALID;
INSERT INTO clinic.diagnoses (visit_id, icd10, diagnosed_on, notes)
SELECT 1 + i % 700, corpus_util.pick('{J06.9,M54.5,E11.9,I10,F32.1}', i), date '2023-03-01' + i / 3, 'observed ' || i FROM generate_series(1, 900) i;
CREATE TABLE clinic.prescriptions (id serial PRIMARY KEY, patient int NOT NULL, drug_id int REFERENCES clinic.drugs, dose text, prescribed_on date);
INSERT INTO clinic.prescriptions (patient, drug_id, dose, prescribed_on)
SELECT 1 + i % 350, 1 + i % 40, (1 + i % 3) || 'x daily', date '2023-01-01' + i / 2 FROM generate_series(1, 700) i;
SELECT privacy_tags.link('clinic.prescriptions', '{patient}', 'clinic.patients', '{id}');
CREATE TABLE clinic.wearable_readings (id bigserial PRIMARY KEY, patient_id int REFERENCES clinic.patients, device_mac text,
  recorded_at timestamptz, heart_rate int, position text);
INSERT INTO clinic.wearable_readings (patient_id, device_mac, recorded_at, heart_rate, position)
SELECT 1 + i % 350, corpus_util.mac(i % 350), timestamptz '2024-02-01' + i * interval '10 minutes', 55 + i % 60, corpus_util.geo(i)
  FROM generate_series(1, 2000) i;

COMMENT ON COLUMN clinic.patients.id IS 'not personal';
COMMENT ON COLUMN clinic.patients.name IS 'personal: identifiers';
COMMENT ON COLUMN clinic.patients.pnr IS 'personal: identifiers';
COMMENT ON COLUMN clinic.patients.phone IS 'personal: contact';
COMMENT ON COLUMN clinic.patients.email IS 'personal: contact';
COMMENT ON COLUMN clinic.patients.born IS 'personal: identifiers';
COMMENT ON COLUMN clinic.patients.gender IS 'personal: demographic';
COMMENT ON COLUMN clinic.patients.address IS 'personal: contact';
COMMENT ON COLUMN clinic.patients.postcode IS 'personal: contact';
COMMENT ON COLUMN clinic.clinicians.id IS 'not personal';
COMMENT ON COLUMN clinic.clinicians.full_name IS 'personal: identifiers';
COMMENT ON COLUMN clinic.clinicians.title IS 'personal: professional';
COMMENT ON COLUMN clinic.clinicians.license_no IS 'personal: professional';
COMMENT ON COLUMN clinic.clinicians.email IS 'personal: contact';
COMMENT ON COLUMN clinic.rooms.id IS 'not personal';
COMMENT ON COLUMN clinic.rooms.name IS 'not personal';
COMMENT ON COLUMN clinic.rooms.floor IS 'not personal';
COMMENT ON COLUMN clinic.rooms.coordinates IS 'not personal';
COMMENT ON COLUMN clinic.drugs.id IS 'not personal';
COMMENT ON COLUMN clinic.drugs.name IS 'not personal';
COMMENT ON COLUMN clinic.drugs.atc_code IS 'not personal';
COMMENT ON COLUMN clinic.drugs.description IS 'not personal';
COMMENT ON COLUMN clinic.visits.id IS 'not personal';
COMMENT ON COLUMN clinic.visits.patient_id IS 'personal: identifiers';
COMMENT ON COLUMN clinic.visits.clinician_id IS 'personal: health';
COMMENT ON COLUMN clinic.visits.room_id IS 'personal: health';
COMMENT ON COLUMN clinic.visits.visited_at IS 'personal: health';
COMMENT ON COLUMN clinic.visits.reason IS 'personal: health';
COMMENT ON COLUMN clinic.diagnoses.id IS 'not personal';
COMMENT ON COLUMN clinic.diagnoses.visit_id IS 'personal: identifiers';
COMMENT ON COLUMN clinic.diagnoses.icd10 IS 'personal: health';
COMMENT ON COLUMN clinic.diagnoses.diagnosed_on IS 'personal: health';
COMMENT ON COLUMN clinic.diagnoses.notes IS 'personal: health';
COMMENT ON COLUMN clinic.prescriptions.id IS 'not personal';
COMMENT ON COLUMN clinic.prescriptions.patient IS 'personal: identifiers';
COMMENT ON COLUMN clinic.prescriptions.drug_id IS 'personal: health';
COMMENT ON COLUMN clinic.prescriptions.dose IS 'personal: health';
COMMENT ON COLUMN clinic.prescriptions.prescribed_on IS 'personal: health';
COMMENT ON COLUMN clinic.wearable_readings.id IS 'not personal';
COMMENT ON COLUMN clinic.wearable_readings.patient_id IS 'personal: identifiers';
COMMENT ON COLUMN clinic.wearable_readings.device_mac IS 'personal: device';
COMMENT ON COLUMN clinic.wearable_readings.recorded_at IS 'personal: health';
COMMENT ON COLUMN clinic.wearable_readings.heart_rate IS 'personal: health';
COMMENT ON COLUMN clinic.wearable_readings.position IS 'personal: location';
