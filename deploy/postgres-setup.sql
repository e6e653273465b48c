-- imsclinic: the database and its two roles. Run once, as PostgreSQL's superuser:
--
--   sudo -u postgres psql -v ON_ERROR_STOP=1 \
--       -v owner=imsclinic_owner -v app=imsclinic_app -v db=imsclinic \
--       -f deploy/postgres-setup.sql
--
-- then give each role its password (psql asks for it and never shows it):
--
--   sudo -u postgres psql -c '\password imsclinic_owner'
--   sudo -u postgres psql -c '\password imsclinic_app'
--
-- The owner role owns the database and every table: release.sh runs migrations as it. The
-- app role is what the web server and the task worker connect as: it owns nothing, so it
-- can never TRUNCATE, ALTER or DROP a table or switch a trigger off, and
-- `manage.py grant_runtime_role` (run by release.sh after each migrate) gives it only
-- SELECT and INSERT on the audit log. Neither role is a superuser, so neither may
-- SET session_replication_role (which would silence the triggers) either.

CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

-- Owned by the owner role, which may therefore add the btree_gist extension (a trusted
-- one since PostgreSQL 13) that the booking overlap guards use.
CREATE DATABASE :"db" OWNER :"owner" ENCODING 'UTF8' TEMPLATE template0;

-- Only the two roles connect; nobody else gets in through PUBLIC, nor makes temporary tables.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"owner", :"app";

-- In the new database: tables are made by the owner role only (PostgreSQL 15 and later
-- already keep PUBLIC out of the public schema; older versions did not).
\connect :"db"
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
