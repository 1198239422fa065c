/*
 * sqlite_schema.c - the SQLite schema as numbered migrations.
 *
 * migrations[i] takes a database from PRAGMA user_version i to i + 1.  Open
 * applies the missing ones in order, each in its own BEGIN IMMEDIATE
 * transaction that also sets user_version, so a crash leaves the file at a
 * whole version and the next open resumes.  The version is re-read inside the
 * transaction, so two processes opening the same file cannot both apply one.
 * Migrations are append-only: never edit one that has shipped; add the next
 * (documents, segments, jobs, tags...) at the end of the array.  A migration
 * that must rebuild a table has to be written knowing foreign_keys is ON.
 */
#include "store/sqlite/sqlite_int.h"

#include "core/log.h"

#include <stdio.h>

/* 1: tenants, their API keys, datasets. */
static const char MIGRATION_1[] =
    "CREATE TABLE tenants ("
    "  id TEXT PRIMARY KEY,"
    "  owner_id TEXT NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE api_keys ("
    "  id TEXT PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  shown TEXT NOT NULL,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  dataset_id TEXT," /* NULL: every dataset of the tenant */
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE datasets ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL,"
    "  description TEXT,"
    "  provider TEXT NOT NULL,"
    "  permission TEXT NOT NULL,"
    "  data_source_type TEXT,"
    "  indexing_technique TEXT,"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_by TEXT,"
    "  updated_at INTEGER NOT NULL,"
    "  embedding_model TEXT,"
    "  embedding_model_provider TEXT,"
    "  retrieval_model TEXT,"       /* JSON */
    "  summary_index_setting TEXT," /* JSON */
    "  icon_info TEXT,"             /* JSON */
    "  doc_form TEXT,"
    "  external_knowledge_id TEXT,"
    "  external_knowledge_api_id TEXT,"
    "  external_retrieval_model TEXT," /* JSON */
    "  partial_member_list TEXT,"      /* JSON array */
    "  built_in_field_enabled INTEGER NOT NULL DEFAULT 0,"
    "  enable_api INTEGER NOT NULL DEFAULT 1,"
    "  is_multimodal INTEGER NOT NULL DEFAULT 0,"
    "  document_count INTEGER NOT NULL DEFAULT 0,"
    "  word_count INTEGER NOT NULL DEFAULT 0,"
    "  available_document_count INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (tenant_id, name)"
    ");"
    "CREATE INDEX datasets_tenant_created ON datasets (tenant_id, created_at);";

/* 2: documents with their uploads and process rules, segments, child chunks,
 * the durable index data of each segment, and the job queue.
 *
 * Deleting a dataset cascades to its process rules and documents; deleting a
 * document cascades to its segments and jobs, and a segment to its child
 * chunks and index row; every such foreign key column leads an index, so a
 * cascade never scans.  Triggers keep the dataset counters (document_count,
 * word_count, available_document_count) in step with every insert, delete and
 * update of a document, in the same transaction, and drop a document's upload
 * row with it.  Timestamps are Unix seconds, NULL when unset; job_token is the
 * token of the job that owns the document (0: none). */
static const char MIGRATION_2[] =
    "CREATE TABLE upload_files ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  extension TEXT,"
    "  mime_type TEXT,"
    "  created_by TEXT,"
    "  created_at_us INTEGER NOT NULL,"
    "  sha256 BLOB"
    ");"
    "CREATE TABLE process_rules ("
    "  id TEXT PRIMARY KEY,"
    "  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  mode TEXT NOT NULL,"
    "  rules TEXT," /* JSON */
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX process_rules_dataset ON process_rules (dataset_id, created_at);"
    "CREATE TABLE documents ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL,"
    "  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  batch TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  data_source_type TEXT NOT NULL,"
    "  created_from TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  doc_form TEXT NOT NULL,"
    "  doc_language TEXT,"
    "  indexing_technique TEXT,"
    "  embedding_model TEXT,"
    "  embedding_model_provider TEXT,"
    "  process_rule_id TEXT NOT NULL REFERENCES process_rules(id),"
    "  upload_id TEXT NOT NULL REFERENCES upload_files(id),"
    "  status TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'parsing',"
    "    'cleaning', 'splitting', 'indexing', 'completed', 'error')),"
    "  is_paused INTEGER NOT NULL DEFAULT 0,"
    "  paused_by TEXT,"
    "  processing_started_at INTEGER,"
    "  processing_started_us INTEGER," /* the same instant, for indexing_latency */
    "  parsing_completed_at INTEGER,"
    "  cleaning_completed_at INTEGER,"
    "  splitting_completed_at INTEGER,"
    "  completed_at INTEGER,"
    "  paused_at INTEGER,"
    "  stopped_at INTEGER,"
    "  disabled_at INTEGER,"
    "  archived_at INTEGER,"
    "  error TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  archived INTEGER NOT NULL DEFAULT 0,"
    "  disabled_by TEXT,"
    "  archived_by TEXT,"
    "  word_count INTEGER,"
    "  tokens INTEGER,"
    "  indexing_latency REAL,"
    "  total_segments INTEGER NOT NULL DEFAULT 0,"
    "  completed_segments INTEGER NOT NULL DEFAULT 0,"
    "  doc_type TEXT,"
    "  doc_metadata TEXT," /* JSON */
    "  job_token INTEGER NOT NULL DEFAULT 0,"
    "  progress_at INTEGER" /* last write of the owning job: the watchdog's clock */
    ");"
    "CREATE INDEX documents_dataset_position ON documents (dataset_id, position);"
    "CREATE INDEX documents_dataset_batch ON documents (dataset_id, batch);"
    "CREATE INDEX documents_process_rule ON documents (process_rule_id);"
    "CREATE INDEX documents_upload ON documents (upload_id);"
    "CREATE TABLE segments ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL,"
    "  dataset_id TEXT NOT NULL,"
    "  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  content TEXT NOT NULL,"
    "  answer TEXT,"
    "  word_count INTEGER NOT NULL DEFAULT 0,"
    "  tokens INTEGER NOT NULL DEFAULT 0,"
    "  keywords TEXT," /* JSON array */
    "  index_node_id TEXT,"
    "  index_node_hash TEXT,"
    "  hit_count INTEGER NOT NULL DEFAULT 0,"
    "  enabled INTEGER NOT NULL DEFAULT 0,"
    "  disabled_at INTEGER,"
    "  disabled_by TEXT,"
    "  status TEXT NOT NULL DEFAULT 'waiting',"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  indexing_at INTEGER,"
    "  completed_at INTEGER,"
    "  stopped_at INTEGER,"
    "  updated_by TEXT,"
    "  error TEXT"
    ");"
    "CREATE INDEX segments_document_position ON segments (document_id, position);"
    "CREATE INDEX segments_document_status ON segments (document_id, status, position);"
    /* the segments a job has still to index, in order, without walking the done ones */
    "CREATE INDEX segments_pending ON segments (document_id, position)"
    "  WHERE status <> 'completed';"
    "CREATE TABLE child_chunks ("
    "  id TEXT PRIMARY KEY,"
    "  segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
    "  document_id TEXT NOT NULL,"
    "  dataset_id TEXT NOT NULL,"
    "  position INTEGER NOT NULL,"
    "  content TEXT NOT NULL,"
    "  word_count INTEGER NOT NULL DEFAULT 0,"
    "  type TEXT NOT NULL DEFAULT 'automatic',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX child_chunks_segment ON child_chunks (segment_id, position);"
    "CREATE TABLE segment_index ("
    "  segment_id TEXT PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,"
    "  dataset_id TEXT NOT NULL,"
    "  vector BLOB," /* dims native-endian floats, NULL for economy */
    "  dims INTEGER NOT NULL DEFAULT 0,"
    "  terms BLOB" /* full-text data, opaque to the store */
    ");"
    "CREATE INDEX segment_index_dataset ON segment_index (dataset_id);"
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL,"
    "  dataset_id TEXT NOT NULL,"
    "  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    "  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'paused',"
    "    'cancelled')),"
    "  token INTEGER NOT NULL DEFAULT 0,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  claimed_at INTEGER,"
    "  progress_at INTEGER"
    ");"
    "CREATE INDEX jobs_state_tenant ON jobs (state, tenant_id, id);"
    "CREATE INDEX jobs_document ON jobs (document_id);"
    "CREATE TABLE tenant_claims ("
    "  tenant_id TEXT PRIMARY KEY,"
    "  last_claim_at INTEGER NOT NULL" /* microseconds, strictly increasing */
    ");"
    "CREATE INDEX tenant_claims_last ON tenant_claims (last_claim_at);"
    /* (status = 'completed' AND enabled AND NOT archived) is 1 for a document
     * Dify shows as available, 0 otherwise */
    "CREATE TRIGGER documents_count_insert AFTER INSERT ON documents BEGIN"
    "  UPDATE datasets SET document_count = document_count + 1,"
    "    word_count = word_count + COALESCE(NEW.word_count, 0),"
    "    available_document_count = available_document_count"
    "      + (NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived)"
    "  WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER documents_count_delete AFTER DELETE ON documents BEGIN"
    "  UPDATE datasets SET document_count = document_count - 1,"
    "    word_count = word_count - COALESCE(OLD.word_count, 0),"
    "    available_document_count = available_document_count"
    "      - (OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived)"
    "  WHERE id = OLD.dataset_id;"
    "  DELETE FROM upload_files WHERE id = OLD.upload_id;"
    "END;"
    "CREATE TRIGGER documents_count_update"
    "  AFTER UPDATE OF word_count, status, enabled, archived ON documents"
    "  WHEN COALESCE(OLD.word_count, 0) <> COALESCE(NEW.word_count, 0)"
    "    OR (OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived)"
    "      <> (NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived)"
    " BEGIN"
    "  UPDATE datasets SET"
    "    word_count = word_count + COALESCE(NEW.word_count, 0) - COALESCE(OLD.word_count, 0),"
    "    available_document_count = available_document_count"
    "      + (NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived)"
    "      - (OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived)"
    "  WHERE id = NEW.dataset_id;"
    "END;";

/* 3: the index version and the index data of child chunks.
 *
 * datasets.index_version changes in the same transaction as anything that
 * changes what rg_store_index_scan returns, so a search can keep an in-memory
 * index of the dataset and rebuild it only when the number differs.  Triggers
 * bump it: each is one UPDATE of the dataset row by primary key, guarded by a
 * WHEN that looks at the changed row and at most one segment and one document
 * by primary key, and fires only when the change can be seen by a search,
 * i.e. when it touches a searchable segment (completed and enabled) of a
 * searchable document (completed, enabled, not archived), or makes a document
 * searchable or unsearchable.  So a document being indexed, a job's stages and
 * uploads leave the version alone until the document completes, and deleting
 * a document bumps it once, not once per cascaded row (its segments find
 * their document gone).
 *
 * child_index holds what indexing produced for one child chunk of a
 * parent-child document (vector, terms), as segment_index does for segments;
 * its segment_id and dataset_id copy the chunk's. */
static const char MIGRATION_3[] =
    "ALTER TABLE datasets ADD COLUMN index_version INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE child_index ("
    "  child_id TEXT PRIMARY KEY REFERENCES child_chunks(id) ON DELETE CASCADE,"
    "  segment_id TEXT NOT NULL,"
    "  dataset_id TEXT NOT NULL,"
    "  vector BLOB," /* dims native-endian floats, NULL for economy */
    "  dims INTEGER NOT NULL DEFAULT 0,"
    "  terms BLOB" /* full-text data, opaque to the store */
    ");"
    /* documents: searchable or not any more, or a searchable one changes form */
    "CREATE TRIGGER iv_documents_insert AFTER INSERT ON documents"
    "  WHEN NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_documents_update"
    "  AFTER UPDATE OF status, enabled, archived, doc_form ON documents"
    "  WHEN (OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived)"
    "    <> (NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived)"
    "  OR ((NEW.status = 'completed' AND NEW.enabled AND NOT NEW.archived)"
    "    AND OLD.doc_form IS NOT NEW.doc_form)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_documents_delete AFTER DELETE ON documents"
    "  WHEN OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = OLD.dataset_id;"
    "END;"
    /* segments: one that is, was or becomes searchable, of a searchable document */
    "CREATE TRIGGER iv_segments_insert AFTER INSERT ON segments"
    "  WHEN NEW.status = 'completed' AND NEW.enabled"
    "  AND (SELECT status = 'completed' AND enabled AND NOT archived FROM documents"
    "    WHERE id = NEW.document_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_segments_update"
    "  AFTER UPDATE OF status, enabled, content, answer, keywords ON segments"
    "  WHEN (OLD.status = 'completed' AND OLD.enabled"
    "    OR NEW.status = 'completed' AND NEW.enabled)"
    "  AND (OLD.status IS NOT NEW.status OR OLD.enabled IS NOT NEW.enabled"
    "    OR OLD.content IS NOT NEW.content OR OLD.answer IS NOT NEW.answer"
    "    OR OLD.keywords IS NOT NEW.keywords)"
    "  AND (SELECT status = 'completed' AND enabled AND NOT archived FROM documents"
    "    WHERE id = NEW.document_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_segments_delete AFTER DELETE ON segments"
    "  WHEN OLD.status = 'completed' AND OLD.enabled"
    "  AND (SELECT status = 'completed' AND enabled AND NOT archived FROM documents"
    "    WHERE id = OLD.document_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = OLD.dataset_id;"
    "END;"
    /* index rows and child chunks of a searchable segment (of a searchable
     * document); INSERT OR REPLACE fires the insert trigger */
    "CREATE TRIGGER iv_segment_index_insert AFTER INSERT ON segment_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_segment_index_update AFTER UPDATE ON segment_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_segment_index_delete AFTER DELETE ON segment_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = OLD.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = OLD.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_chunks_insert AFTER INSERT ON child_chunks"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_chunks_update AFTER UPDATE OF content, segment_id ON child_chunks"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    "  OR (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = OLD.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_chunks_delete AFTER DELETE ON child_chunks"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = OLD.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = OLD.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_index_insert AFTER INSERT ON child_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_index_update AFTER UPDATE ON child_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = NEW.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = NEW.dataset_id;"
    "END;"
    "CREATE TRIGGER iv_child_index_delete AFTER DELETE ON child_index"
    "  WHEN (SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"
    "    AND d.enabled AND NOT d.archived FROM segments s"
    "    JOIN documents d ON d.id = s.document_id WHERE s.id = OLD.segment_id)"
    " BEGIN"
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = OLD.dataset_id;"
    "END;";

/* 4: workspace tags bound to datasets, and each dataset's custom metadata
 * fields (document values live in documents.doc_metadata as {name: value},
 * Dify's shape, so a rename or delete rewrites the documents that carry it). */
static const char MIGRATION_4[] =
    "CREATE TABLE tags ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL DEFAULT 'knowledge',"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (tenant_id, name)"
    ");"
    "CREATE TABLE tag_bindings ("
    "  tag_id TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,"
    "  target_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (tag_id, target_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX tag_bindings_target ON tag_bindings(target_id, tag_id);"
    "CREATE TABLE dataset_metadatas ("
    "  id TEXT PRIMARY KEY,"
    "  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  tenant_id TEXT NOT NULL REFERENCES tenants(id),"
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL CHECK (type IN ('string', 'number', 'time')),"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (dataset_id, name)"
    ");";

/* 5: the embedding cache (sqlite_embed_cache.c). */
static const char MIGRATION_5[] = "CREATE TABLE embed_cache ("
                                  "  id INTEGER PRIMARY KEY,"
                                  "  model TEXT NOT NULL,"
                                  "  digest BLOB NOT NULL,"
                                  "  vec BLOB NOT NULL,"
                                  "  UNIQUE (model, digest)"
                                  ");";

/* 6: the index change log.  Every trigger of migration 3 that moves a
 * dataset's index_version now also records which document the change was
 * in, at the new version, so a search can bring its in-memory index up to
 * date by re-reading only the documents changed since its version instead
 * of the whole dataset (rg_store_index_scan_changes).  The log is complete
 * for versions above datasets.index_log_from; entries up to a version that
 * no index needs any more are trimmed (rg_store_index_log_trim). */
#define IV_BUMP(ds, doc)                                                                           \
    " BEGIN"                                                                                       \
    "  UPDATE datasets SET index_version = index_version + 1 WHERE id = " ds ";"                   \
    "  INSERT INTO index_log (dataset_id, version, document_id)"                                   \
    "    SELECT id, index_version, " doc " FROM datasets WHERE id = " ds ";"                       \
    "END;"
#define IV_SEG_LIVE(seg)                                                                           \
    "(SELECT s.status = 'completed' AND s.enabled AND d.status = 'completed'"                      \
    " AND d.enabled AND NOT d.archived FROM segments s"                                            \
    " JOIN documents d ON d.id = s.document_id WHERE s.id = " seg ")"
#define IV_DOC_LIVE(doc)                                                                           \
    "(SELECT status = 'completed' AND enabled AND NOT archived FROM documents WHERE id = " doc ")"
#define IV_DOC_OF(seg) "(SELECT document_id FROM segments WHERE id = " seg ")"
static const char MIGRATION_6[] = "ALTER TABLE datasets ADD COLUMN index_log_from INTEGER NOT NULL "
                                  "DEFAULT 0;"
                                  "UPDATE datasets SET index_log_from = index_version;"
                                  "CREATE TABLE index_log ("
                                  "  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE "
                                  "CASCADE,"
                                  "  version INTEGER NOT NULL,"
                                  "  document_id TEXT NOT NULL"
                                  ");"
                                  "CREATE INDEX index_log_dataset ON index_log (dataset_id, "
                                  "version);"
                                  "DROP TRIGGER iv_documents_insert; DROP TRIGGER "
                                  "iv_documents_update;"
                                  "DROP TRIGGER iv_documents_delete; DROP TRIGGER "
                                  "iv_segments_insert;"
                                  "DROP TRIGGER iv_segments_update; DROP TRIGGER "
                                  "iv_segments_delete;"
                                  "DROP TRIGGER iv_segment_index_insert; DROP TRIGGER "
                                  "iv_segment_index_update;"
                                  "DROP TRIGGER iv_segment_index_delete; DROP TRIGGER "
                                  "iv_child_chunks_insert;"
                                  "DROP TRIGGER iv_child_chunks_update; DROP TRIGGER "
                                  "iv_child_chunks_delete;"
                                  "DROP TRIGGER iv_child_index_insert; DROP TRIGGER "
                                  "iv_child_index_update;"
                                  "DROP TRIGGER iv_child_index_delete;"
                                  "CREATE TRIGGER iv_documents_insert AFTER INSERT ON documents"
                                  "  WHEN NEW.status = 'completed' AND NEW.enabled AND NOT "
                                  "NEW.archived" IV_BUMP(
                                      "NEW.dataset_id",
                                      "NEW.id") "CREATE TRIGGER iv_documents_update"
                                                "  AFTER UPDATE OF status, enabled, archived, "
                                                "doc_form ON documents"
                                                "  WHEN (OLD.status = 'completed' AND OLD.enabled "
                                                "AND NOT OLD.archived)"
                                                "    <> (NEW.status = 'completed' AND NEW.enabled "
                                                "AND NOT NEW.archived)"
                                                "  OR ((NEW.status = 'completed' AND NEW.enabled "
                                                "AND NOT NEW.archived)"
                                                "    AND OLD.doc_form IS NOT NEW.doc_form)" IV_BUMP("NEW.dataset_id", "NEW.id") "CREATE TRIGGER iv_documents_delete AFTER DELETE ON documents"
                                                                                                                                "  WHEN OLD.status = 'completed' AND OLD.enabled AND NOT OLD.archived" IV_BUMP("OLD.dataset_id", "OLD.id") "CREATE TRIGGER iv_segments_insert AFTER INSERT ON segments"
                                                                                                                                                                                                                                           "  WHEN NEW.status = 'completed' AND NEW.enabled AND " IV_DOC_LIVE("NEW.document_id") IV_BUMP("NEW.dataset_id", "NEW.document_id") "CREATE TRIGGER iv_segments_update"
                                                                                                                                                                                                                                                                                                                                                                              "  AFTER UPDATE OF status, enabled, content, answer, keywords ON segments"
                                                                                                                                                                                                                                                                                                                                                                              "  WHEN (OLD.status = 'completed' AND OLD.enabled"
                                                                                                                                                                                                                                                                                                                                                                              "    OR NEW.status = 'completed' AND NEW.enabled)"
                                                                                                                                                                                                                                                                                                                                                                              "  AND (OLD.status IS NOT NEW.status OR OLD.enabled IS NOT NEW.enabled"
                                                                                                                                                                                                                                                                                                                                                                              "    OR OLD.content IS NOT NEW.content OR OLD.answer IS NOT NEW.answer"
                                                                                                                                                                                                                                                                                                                                                                              "    OR OLD.keywords IS NOT NEW.keywords)"
                                                                                                                                                                                                                                                                                                                                                                              "  AND " IV_DOC_LIVE(
                                                                                                                                                                                                                                                                                                                                                                                  "NEW.document_id") IV_BUMP("NEW.dataset_id", "NEW.document_id") "CREATE TRIGGER iv_segments_delete AFTER DELETE ON segments"
                                                                                                                                                                                                                                                                                                                                                                                                                                                  "  WHEN OLD.status = 'completed' AND OLD.enabled AND " IV_DOC_LIVE("OLD.document_id") IV_BUMP("OLD.dataset_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                "OLD.document_id") "CREATE TRIGGER iv_segment_index_insert AFTER INSERT ON segment_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   "  WHEN " IV_SEG_LIVE("NEW.segment_id") IV_BUMP(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                       "NEW.dataset_id", IV_DOC_OF("NEW.segment_id")) "CREATE TRIGGER iv_segment_index_update AFTER UPDATE ON segment_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                      "  WHEN " IV_SEG_LIVE("NEW.segment_id") IV_BUMP(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          "NEW.dataset_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          IV_DOC_OF(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                              "NEW.segment_id")) "CREATE TRIGGER iv_segment_index_delete AFTER DELETE ON segment_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 "  WHEN " IV_SEG_LIVE(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                     "OLD.segment_id") IV_BUMP("OLD.dataset_id", IV_DOC_OF("OLD.segment_id")) "CREATE TRIGGER iv_child_chunks_insert AFTER INSERT ON child_chunks"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                              "  WHEN " IV_SEG_LIVE("NEW.segment_id") IV_BUMP("NEW.dataset_id", "NEW.document_id") "CREATE TRIGGER iv_child_chunks_update AFTER UPDATE OF content, segment_id ON child_chunks"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   "  WHEN " IV_SEG_LIVE("NEW.segment_id") " OR " IV_SEG_LIVE("OLD.segment_id") IV_BUMP("NEW.dataset_id", "NEW.document_id") "CREATE TRIGGER iv_child_chunks_delete AFTER DELETE ON child_chunks"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                             "  WHEN " IV_SEG_LIVE("OLD.segment_id") IV_BUMP(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 "OLD.dataset_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                 "OLD.document_id") "CREATE TRIGGER iv_child_index_insert AFTER INSERT ON child_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                    "  WHEN " IV_SEG_LIVE("NEW.segment_id") IV_BUMP(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                        "NEW.dataset_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                        IV_DOC_OF(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            "NEW.segment_id")) "CREATE TRIGGER iv_child_index_update AFTER UPDATE ON child_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                               "  WHEN " IV_SEG_LIVE(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   "NEW.segment_id")
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                   IV_BUMP("NEW.dataset_id", IV_DOC_OF("NEW.segment_id")) "CREATE TRIGGER iv_child_index_delete AFTER DELETE ON child_index"
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                          "  WHEN " IV_SEG_LIVE(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                              "OLD.segment_id") IV_BUMP("OLD.dataset_id",
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                        IV_DOC_OF(
                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            "OLD.segment_id"));

static const char *const migrations[] = {
    MIGRATION_1, MIGRATION_2, MIGRATION_3, MIGRATION_4, MIGRATION_5, MIGRATION_6,
};

static const char SQL_USER_VERSION[] = "PRAGMA user_version";

static rg_rc user_version(rg_sqlite_conn *w, int *out)
{
    sqlite3_stmt *st;
    RG_TRY(rg_sqlite_stmt(w, SQL_USER_VERSION, &st));
    rg_rc rc = RG_OK;
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    else
        rc = rg_sqlite_fail(w, "read user_version");
    rg_sqlite_stmt_done(w, st);
    return rc;
}

/* Applies migration index i (to version i + 1) unless it is already there. */
static rg_rc apply(rg_sqlite_conn *w, int i)
{
    char what[64], bump[64];
    snprintf(what, sizeof what, "migration %d", i + 1);
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", i + 1);
    RG_TRY(rg_sqlite_tx_begin(w, true));
    int v = 0;
    rg_rc rc = user_version(w, &v);
    if (rc == RG_OK && v <= i) {
        rc = rg_sqlite_exec(w, migrations[i], what);
        if (rc == RG_OK)
            rc = rg_sqlite_exec(w, bump, what);
    }
    rc = rg_sqlite_tx_end(w, rc);
    if (rc == RG_OK && v <= i)
        rg_info("store: applied schema migration %d", i + 1);
    return rc;
}

rg_rc rg_sqlite_migrate(rg_sqlite_conn *w)
{
    const int n = (int)RG_ARRAY_LEN(migrations);
    int v = 0;
    RG_TRY(user_version(w, &v));
    if (v < 0 || v > n) {
        rg_error("store: the database is at schema version %d but this ragd knows 0..%d;"
                 " refusing to open it",
                 v, n);
        return RG_EIO;
    }
    for (int i = v; i < n; i++)
        RG_TRY(apply(w, i));
    return RG_OK;
}
