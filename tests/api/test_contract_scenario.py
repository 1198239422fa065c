"""A client's whole journey, written only from the contract
(../shared/spec/knowledge-api.en.json): its request schemas, the one request example it
gives (create-by-file's "data" part, used verbatim) and the values of its response
examples ("Product Documentation", "guide.txt", the chunk "Dify is an open-source LLM app
development platform.", the metadata field "author" of type string, the query "What is
Dify?").  Create a knowledge base, a document by text and one by file, poll
indexing-status until completed, list the documents, add a chunk, create a metadata
field, set it on a document, retrieve with a matching filter (that document only) and a
non-matching one (nothing), then delete the document and the knowledge base."""
import uuid

from harness import check, eq


# The contract's request example for create-by-file, verbatim.
FILE_DATA = ('{"indexing_technique":"high_quality","doc_form":"text_model",'
             '"doc_language":"English","process_rule":{"mode":"automatic"}}')
CHUNK = "Dify is an open-source LLM app development platform."
QUERY = "What is Dify?"


def retrieval(conditions):
    return {"search_method": "semantic_search", "reranking_enable": False, "top_k": 10,
            "score_threshold_enabled": False,
            "metadata_filtering_conditions": {"logical_operator": "and",
                                              "conditions": conditions}}


def test_contract_scenario(srv):
    # create a knowledge base (POST /datasets: name required)
    st, _, ds, raw = srv.call("POST", "/v1/datasets", body={
        "name": "Product Documentation " + uuid.uuid4().hex[:6],
        "description": "Technical documentation for the product API",
        "indexing_technique": "high_quality", "permission": "only_me", "provider": "vendor"})
    if not eq(st, 200, f"create dataset ({raw[:200]!r})"):
        return
    dsid = ds["id"]
    base = f"/v1/datasets/{dsid}"

    # a document by text (name and text required)
    st, _, js, raw = srv.call("POST", f"{base}/document/create-by-text", body={
        "name": "guide.txt", "text": CHUNK + "\n\nIt supports knowledge bases and retrieval.",
        "indexing_technique": "high_quality", "doc_form": "text_model",
        "doc_language": "English", "process_rule": {"mode": "automatic"}})
    if not eq(st, 200, f"create-by-text ({raw[:200]!r})"):
        return
    text_doc, text_batch = js["document"]["id"], js["batch"]

    # a document by file, with the contract's data example verbatim
    st, _, js, raw = srv.upload(f"{base}/document/create-by-file", data=FILE_DATA,
                                files=[("file", "report.txt",
                                        b"Quarterly report.\n\nRevenue grew in every region.\n",
                                        "text/plain")])
    if not eq(st, 200, f"create-by-file ({raw[:200]!r})"):
        return
    file_doc, file_batch = js["document"]["id"], js["batch"]

    # poll indexing-status until completed
    for batch, doc in ((text_batch, text_doc), (file_batch, file_doc)):
        items = srv.wait_indexed(dsid, batch)
        eq([(i["id"], i["indexing_status"]) for i in items], [(doc, "completed")],
           f"indexing-status of batch {batch}")

    # list the documents
    st, _, js, raw = srv.call("GET", f"{base}/documents?page=1&limit=20")
    if eq(st, 200, f"list documents ({raw[:200]!r})"):
        eq(sorted(d["id"] for d in js["data"]), sorted([text_doc, file_doc]), "listed documents")
        eq(js.get("total"), 2, "total")

    # add a chunk to the text document
    st, _, js, raw = srv.call("POST", f"{base}/documents/{text_doc}/segments", body={
        "segments": [{"content": CHUNK, "keywords": ["dify", "platform", "llm"]}]})
    if eq(st, 200, f"add chunk ({raw[:200]!r})"):
        eq([s["content"] for s in js["data"]], [CHUNK], "added chunk")

    # create a metadata field (type and name required), set it on the text document
    st, _, field, raw = srv.call("POST", f"{base}/metadata",
                                 body={"type": "string", "name": "author"})
    if not eq(st, 201, f"create metadata field ({raw[:200]!r})"):
        return
    eq((field.get("name"), field.get("type")), ("author", "string"), "metadata field")
    st, _, js, raw = srv.call("POST", f"{base}/documents/metadata", body={"operation_data": [
        {"document_id": text_doc,
         "metadata_list": [{"id": field["id"], "name": "author", "value": "admin"}]}]})
    eq((st, js), (200, {"result": "success"}), f"set document metadata ({raw[:200]!r})")

    # retrieve with a matching filter: only that document
    st, _, js, raw = srv.call("POST", f"{base}/retrieve", body={
        "query": QUERY, "retrieval_model": retrieval(
            [{"name": "author", "comparison_operator": "is", "value": "admin"}])})
    if eq(st, 200, f"retrieve, matching filter ({raw[:200]!r})"):
        eq(js["query"], {"content": QUERY}, "query echo")
        docs = {r["segment"]["document_id"] for r in js["records"]}
        eq(docs, {text_doc}, "documents retrieved with author is admin")
        check(any(r["segment"]["content"] == CHUNK for r in js["records"]),
              "the added chunk is retrieved")

    # retrieve with a non-matching filter: nothing
    st, _, js, raw = srv.call("POST", f"{base}/retrieve", body={
        "query": QUERY, "retrieval_model": retrieval(
            [{"name": "author", "comparison_operator": "is", "value": "nobody"}])})
    if eq(st, 200, f"retrieve, non-matching filter ({raw[:200]!r})"):
        eq(js["records"], [], "records with author is nobody")

    # delete the document, then the knowledge base
    st, _, _, raw = srv.call("DELETE", f"{base}/documents/{text_doc}")
    eq(st, 204, f"delete document ({raw[:200]!r})")
    st, _, _, _ = srv.call("GET", f"{base}/documents/{text_doc}")
    eq(st, 404, "the deleted document")
    st, _, _, raw = srv.call("DELETE", base)
    eq(st, 204, f"delete dataset ({raw[:200]!r})")
    st, _, _, _ = srv.call("GET", base)
    eq(st, 404, "the deleted dataset")
