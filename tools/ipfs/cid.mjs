// The root CID IPFS's own UnixFS importer (ipfs-unixfs-importer, the one Helia uses) gives stdin's bytes with the
// settings of Kubo's `ipfs add --cid-version=1`: raw leaves, 256 KiB fixed chunks, balanced layout of 174 links.
// tests/core/test_cid_interop.py checks trainyard.cid against it.
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'

const chunks = []
for await (const c of process.stdin) chunks.push(c)
let last
for await (const entry of importer([{ content: new Uint8Array(Buffer.concat(chunks)) }], new MemoryBlockstore(), {
  cidVersion: 1, rawLeaves: true, chunker: fixedSize({ chunkSize: 262144 }),
  layout: balanced({ maxChildrenPerNode: 174 }), reduceSingleLeafToSelf: true,
})) last = entry
console.log(last.cid.toString())
