"""Test helpers shared by every test: a throwaway PostgreSQL, isolated dbt builds, env isolation."""
