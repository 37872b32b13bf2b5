"""The read-model store adapters: MongoDB (pymongo) and the embedded SQLite file."""
