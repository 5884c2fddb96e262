#include "state/lmdb_check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace dbuild {
namespace {

static_assert(std::endian::native == std::endian::little, "LMDB files are read as little-endian");
static_assert(sizeof(void*) == 8, "the layout below is LMDB's on 64-bit platforms");

// ---- LMDB 0.9 on-disk constants (mdb.c) ----
constexpr uint32_t kMagic = 0xBEEFC0DE;
constexpr uint32_t kDataVersion = 1;
constexpr size_t kPageHeader = 16;  // pgno u64, pad u16, flags u16, lower u16, upper u16
constexpr size_t kNodeHeader = 8;   // lo u16, hi u16, flags u16, ksize u16
constexpr size_t kDbBytes = 48;     // MDB_db
constexpr size_t kMetaBytes = 136;  // MDB_meta, at kPageHeader in pages 0 and 1
constexpr uint16_t kPageBranch = 0x01, kPageLeaf = 0x02, kPageOverflow = 0x04, kPageMeta = 0x08;
constexpr uint16_t kNodeBigData = 0x01, kNodeSubData = 0x02;
constexpr uint16_t kDbKeyFlags = 0x7e;  // REVERSEKEY DUPSORT INTEGERKEY DUPFIXED INTEGERDUP REVERSEDUP
constexpr uint16_t kIntegerKey = 0x08;
constexpr uint64_t kNoPage = ~uint64_t{0};
constexpr int kMaxDepth = 32;  // CURSOR_STACK
constexpr uint64_t kMetaPages = 2;

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// MDB_db: one B-tree's root and counters.
struct DbInfo {
  uint32_t pad = 0;  // page size, for the free-page tree
  uint16_t flags = 0;
  uint16_t depth = 0;  // 0 for an empty tree
  uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0;
  uint64_t root = kNoPage;  // kNoPage: empty tree
};

DbInfo parse_db(const uint8_t* p) {
  DbInfo db;
  db.pad = load<uint32_t>(p);
  db.flags = load<uint16_t>(p + 4);
  db.depth = load<uint16_t>(p + 6);
  db.branch = load<uint64_t>(p + 8);
  db.leaf = load<uint64_t>(p + 16);
  db.overflow = load<uint64_t>(p + 24);
  db.entries = load<uint64_t>(p + 32);
  db.root = load<uint64_t>(p + 40);
  return db;
}

/// MDB_meta plus its page's flags.
struct MetaInfo {
  uint16_t page_flags = 0;
  uint32_t magic = 0, version = 0;
  DbInfo free_db, main_db;
  uint64_t last_pg = 0, txnid = 0;
};

MetaInfo parse_meta(const uint8_t* page) {
  const uint8_t* m = page + kPageHeader;
  MetaInfo meta;
  meta.page_flags = load<uint16_t>(page + 10);
  meta.magic = load<uint32_t>(m);
  meta.version = load<uint32_t>(m + 4);
  meta.free_db = parse_db(m + 24);
  meta.main_db = parse_db(m + 24 + kDbBytes);
  meta.last_pg = load<uint64_t>(m + 120);
  meta.txnid = load<uint64_t>(m + 128);
  return meta;
}

enum class TreeKind { kFree, kMain, kNamed };

/// One tree to walk: where it is and what its leaves hold.
struct Tree {
  std::string name;
  DbInfo db;
  TreeKind kind;
};

/// Pages and entries found by a walk, to compare with the tree's DbInfo.
struct Counts {
  uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0;
};

/// A key bound in a walk; nullopt: none. Views point into the mapped file.
using Bound = std::optional<std::string_view>;

/// LMDB's key order: unsigned 64-bit integers for the free-page tree (MDB_INTEGERKEY, native
/// order), bytes (memcmp, shorter first on a tie) for the others.
int compare_keys(TreeKind kind, std::string_view a, std::string_view b) {
  if (kind == TreeKind::kFree) {
    uint64_t x = load<uint64_t>(reinterpret_cast<const uint8_t*>(a.data()));
    uint64_t y = load<uint64_t>(reinterpret_cast<const uint8_t*>(b.data()));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.compare(b);
}

/// A node header and where its key and data start, all inside its page.
struct Node {
  uint16_t lo = 0, hi = 0, flags = 0, ksize = 0;
  const uint8_t* key = nullptr;
  const uint8_t* data = nullptr;
  size_t room = 0;  // bytes from `data` to the end of the page

  std::string_view key_view() const { return {reinterpret_cast<const char*>(key), ksize}; }
};

/// Walks one mapped data file. Single use.
class Checker {
 public:
  Checker(const uint8_t* base, uint64_t file_bytes) : base_(base), file_bytes_(file_bytes) {}
  LmdbFileCheck run();

 private:
  bool check_metas();
  bool check_meta_page(const MetaInfo& m, int slot);
  bool check_tree(const Tree& tree);
  /// Walks the subtree at pgno, whose keys must lie in [low, high) (nullopt: unbounded).
  bool walk(uint64_t pgno, int level, const Tree& tree, Counts* counts, const Bound& low,
            const Bound& high);
  bool read_page(uint64_t pgno, bool leaf, const Tree& tree, const Bound& low, const Bound& high,
                 std::vector<Node>* nodes);
  bool check_order(const Tree& tree, uint64_t pgno, const Bound& prev, std::string_view key,
                   const Bound& low, const Bound& high);
  bool page_bounds(uint64_t pgno, const uint8_t* p, size_t* nkeys, uint16_t* upper);
  bool node_at(uint64_t pgno, const uint8_t* p, size_t i, uint16_t upper, Node* node);
  bool visit_leaf(const Tree& tree, uint64_t pgno, const Node& node, Counts* counts);
  bool leaf_data(uint64_t pgno, const Node& node, Counts* counts, std::string_view* data);
  bool claim_overflow(uint64_t pgno, uint32_t dsize, Counts* counts);
  bool free_record(uint64_t pgno, const Node& node, Counts* counts);
  bool named_db(uint64_t pgno, const Node& node);
  bool claim(uint64_t pgno);
  bool check_free_pages();
  std::string meta_bytes() const;
  bool fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
    return false;
  }

  const uint8_t* base_;
  uint64_t file_bytes_;
  uint32_t psize_ = 0;
  uint64_t file_pages_ = 0;  // whole pages in the file
  MetaInfo meta_;            // the meta LMDB will use
  std::vector<uint8_t> seen_;       // per page in the file: 0 unseen, 1 in a tree, 2 free
  std::vector<uint64_t> free_;      // every page number listed in the free-page tree
  std::vector<Tree> named_;         // named databases found in the main tree
  std::string problem_;
};

LmdbFileCheck Checker::run() {
  std::string before = meta_bytes();
  bool ok = check_metas() && check_tree({"free-page tree", meta_.free_db, TreeKind::kFree}) &&
            check_tree({"main tree", meta_.main_db, TreeKind::kMain});
  for (size_t i = 0; ok && i < named_.size(); ++i) ok = check_tree(named_[i]);
  ok = ok && check_free_pages();
  LmdbFileCheck out;
  out.file_bytes = file_bytes_;
  if (meta_bytes() != before) {
    out.state = LmdbFileState::kChanged;
  } else if (!ok) {
    out.state = LmdbFileState::kCorrupt;
    out.problem = problem_;
  } else {
    out.state = LmdbFileState::kSound;
    out.page_size = psize_;
    out.txnid = meta_.txnid;
  }
  return out;
}

/// The bytes of both metas that a commit rewrites, to detect a commit during the check.
std::string Checker::meta_bytes() const {
  std::string bytes;
  size_t n = kPageHeader + kMetaBytes;
  auto add = [&](uint64_t offset) {
    if (offset + n <= file_bytes_) bytes.append(reinterpret_cast<const char*>(base_ + offset), n);
  };
  add(0);
  if (!bytes.empty()) add(load<uint32_t>(base_ + kPageHeader + 24));  // meta 0's page size
  return bytes;
}

bool Checker::check_meta_page(const MetaInfo& m, int slot) {
  if (!(m.page_flags & kPageMeta)) return fail(fmt::format("page {} is not a meta page", slot));
  if (m.magic != kMagic) return fail(fmt::format("meta page {} has a bad magic number", slot));
  if (m.version != kDataVersion) {
    return fail(fmt::format("meta page {} has LMDB data version {}, expected {}", slot,
                            m.version, kDataVersion));
  }
  return true;
}

bool Checker::check_metas() {
  if (file_bytes_ < kPageHeader + kMetaBytes) {
    return fail(fmt::format("the file is too short ({} bytes) for a meta page", file_bytes_));
  }
  MetaInfo m0 = parse_meta(base_);
  if (!check_meta_page(m0, 0)) return false;
  uint32_t psize = m0.free_db.pad;
  if (psize < 512 || psize > 32768 || !std::has_single_bit(psize)) {
    return fail(fmt::format("meta page 0 has a bad page size {}", psize));
  }
  if (file_bytes_ < 2ull * psize) {
    return fail(fmt::format("the file is too short ({} bytes) for two meta pages", file_bytes_));
  }
  psize_ = psize;
  MetaInfo m1 = parse_meta(base_ + psize);
  if (!check_meta_page(m1, 1)) return false;
  if (m1.free_db.pad != psize) return fail("the meta pages disagree on the page size");
  int slot = m0.txnid < m1.txnid ? 1 : 0;
  meta_ = slot ? m1 : m0;
  if (static_cast<int>(meta_.txnid & 1) != slot) {
    return fail(fmt::format("meta page {} holds txn {} of the wrong parity", slot, meta_.txnid));
  }
  if (meta_.last_pg < kMetaPages - 1) return fail("the meta page's last page is below 1");
  file_pages_ = file_bytes_ / psize_;
  seen_.assign(file_pages_, 0);
  return true;
}

bool Checker::check_tree(const Tree& tree) {
  const DbInfo& db = tree.db;
  uint16_t want = tree.kind == TreeKind::kFree ? kIntegerKey : 0;
  uint16_t flags = tree.kind == TreeKind::kFree ? (db.flags & kDbKeyFlags) : db.flags;
  if (flags != want) return fail(fmt::format("{}: bad flags {:#x}", tree.name, db.flags));
  if (db.root == kNoPage) {
    if (db.depth != 0 || db.branch != 0 || db.leaf != 0 || db.overflow != 0 || db.entries != 0) {
      return fail(fmt::format("{}: empty tree with nonzero counters", tree.name));
    }
    return true;
  }
  if (db.depth < 1 || db.depth > kMaxDepth) {
    return fail(fmt::format("{}: bad depth {}", tree.name, db.depth));
  }
  Counts c;
  if (!walk(db.root, 1, tree, &c, Bound(), Bound())) return false;
  if (c.branch != db.branch || c.leaf != db.leaf || c.overflow != db.overflow ||
      c.entries != db.entries) {
    return fail(fmt::format(
        "{}: counters say {}/{}/{} branch/leaf/overflow pages and {} entries, found {}/{}/{} "
        "and {}",
        tree.name, db.branch, db.leaf, db.overflow, db.entries, c.branch, c.leaf, c.overflow,
        c.entries));
  }
  return true;
}

bool Checker::claim(uint64_t pgno) {
  if (pgno < kMetaPages) return fail(fmt::format("a tree points at meta page {}", pgno));
  if (pgno >= file_pages_ || pgno > meta_.last_pg) {
    return fail(fmt::format("a tree points at page {}, past the end of the file ({} pages)", pgno,
                            std::min(file_pages_, meta_.last_pg + 1)));
  }
  if (seen_[pgno] != 0) return fail(fmt::format("page {} is reached twice", pgno));
  seen_[pgno] = 1;
  return true;
}

bool Checker::walk(uint64_t pgno, int level, const Tree& tree, Counts* counts, const Bound& low,
                   const Bound& high) {
  bool leaf = level == tree.db.depth;
  std::vector<Node> nodes;
  if (!read_page(pgno, leaf, tree, low, high, &nodes)) return false;
  size_t n = nodes.size();
  (leaf ? counts->leaf : counts->branch) += 1;
  if (leaf) counts->entries += n;
  for (size_t i = 0; i < n; ++i) {
    const Node& node = nodes[i];
    bool ok = true;
    if (leaf) {
      ok = visit_leaf(tree, pgno, node, counts);
    } else {
      Bound child_low = i == 0 ? low : Bound(node.key_view());
      Bound child_high = i + 1 < n ? Bound(nodes[i + 1].key_view()) : high;
      uint64_t child = node.lo | (uint64_t{node.hi} << 16) | (uint64_t{node.flags} << 32);
      ok = walk(child, level + 1, tree, counts, child_low, child_high);
    }
    if (!ok) return false;
  }
  return true;
}

/// Claims a tree page and checks its header, its nodes' bounds and its keys' order.
bool Checker::read_page(uint64_t pgno, bool leaf, const Tree& tree, const Bound& low,
                        const Bound& high, std::vector<Node>* nodes) {
  if (!claim(pgno)) return false;
  const uint8_t* p = base_ + pgno * psize_;
  uint16_t flags = load<uint16_t>(p + 10);
  if (load<uint64_t>(p) != pgno) {
    return fail(fmt::format("page {} says it is page {}", pgno, load<uint64_t>(p)));
  }
  if (flags != (leaf ? kPageLeaf : kPageBranch)) {
    return fail(fmt::format("{}: page {} has flags {:#x}, expected a {} page", tree.name, pgno,
                            flags, leaf ? "leaf" : "branch"));
  }
  size_t n = 0;
  uint16_t upper = 0;
  if (!page_bounds(pgno, p, &n, &upper)) return false;
  if (!leaf && n == 0) return fail(fmt::format("branch page {} is empty", pgno));
  nodes->resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!node_at(pgno, p, i, upper, &(*nodes)[i])) return false;
  }
  // Keys ascend within [low, high); a branch's node 0 has no key (LMDB ignores it).
  size_t first = leaf ? 0 : 1;
  for (size_t i = first; i < n; ++i) {
    Bound prev = i > first ? Bound((*nodes)[i - 1].key_view()) : Bound();
    if (!check_order(tree, pgno, prev, (*nodes)[i].key_view(), low, high)) return false;
  }
  return true;
}

/// Checks prev < key, low <= key and key < high (each when set) and, for the free-page tree,
/// that the key is 8 bytes.
bool Checker::check_order(const Tree& tree, uint64_t pgno, const Bound& prev, std::string_view key,
                          const Bound& low, const Bound& high) {
  if (tree.kind == TreeKind::kFree && key.size() != 8) {
    return fail(fmt::format("free-page tree: page {} has a key of {} bytes", pgno, key.size()));
  }
  if ((prev && compare_keys(tree.kind, *prev, key) >= 0) ||
      (low && compare_keys(tree.kind, key, *low) < 0) ||
      (high && compare_keys(tree.kind, key, *high) >= 0)) {
    return fail(fmt::format("{}: page {} has keys out of order", tree.name, pgno));
  }
  return true;
}

bool Checker::page_bounds(uint64_t pgno, const uint8_t* p, size_t* nkeys, uint16_t* upper) {
  uint16_t lower = load<uint16_t>(p + 12);
  *upper = load<uint16_t>(p + 14);
  if (lower < kPageHeader || *upper > psize_ || lower > *upper || (lower - kPageHeader) % 2 != 0) {
    return fail(fmt::format("page {}: bad free-space bounds {}..{}", pgno, lower, *upper));
  }
  *nkeys = (lower - kPageHeader) / 2;
  return true;
}

bool Checker::node_at(uint64_t pgno, const uint8_t* p, size_t i, uint16_t upper, Node* node) {
  size_t off = load<uint16_t>(p + kPageHeader + 2 * i);
  if (off < upper || off + kNodeHeader > psize_) {
    return fail(fmt::format("page {}: node {} lies outside the node area", pgno, i));
  }
  const uint8_t* n = p + off;
  node->lo = load<uint16_t>(n);
  node->hi = load<uint16_t>(n + 2);
  node->flags = load<uint16_t>(n + 4);
  node->ksize = load<uint16_t>(n + 6);
  if (off + kNodeHeader + node->ksize > psize_) {
    return fail(fmt::format("page {}: the key of node {} extends past the page", pgno, i));
  }
  node->key = n + kNodeHeader;
  node->data = node->key + node->ksize;
  node->room = psize_ - (off + kNodeHeader + node->ksize);
  return true;
}

bool Checker::visit_leaf(const Tree& tree, uint64_t pgno, const Node& node, Counts* counts) {
  switch (tree.kind) {
    case TreeKind::kFree:
      return free_record(pgno, node, counts);
    case TreeKind::kMain:
      return named_db(pgno, node);
    case TreeKind::kNamed:
      break;
  }
  if ((node.flags & ~kNodeBigData) != 0) {
    return fail(fmt::format("{}: page {} has a node with flags {:#x}", tree.name, pgno,
                            node.flags));
  }
  std::string_view data;
  return leaf_data(pgno, node, counts, &data);
}

bool Checker::leaf_data(uint64_t pgno, const Node& node, Counts* counts, std::string_view* data) {
  uint32_t dsize = node.lo | (uint32_t{node.hi} << 16);
  if (!(node.flags & kNodeBigData)) {
    if (dsize > node.room) return fail(fmt::format("page {}: a value extends past the page", pgno));
    *data = {reinterpret_cast<const char*>(node.data), dsize};
    return true;
  }
  if (node.room < 8) return fail(fmt::format("page {}: an overflow reference is cut off", pgno));
  uint64_t ov = load<uint64_t>(node.data);
  if (!claim_overflow(ov, dsize, counts)) return false;
  *data = {reinterpret_cast<const char*>(base_ + ov * psize_ + kPageHeader), dsize};
  return true;
}

bool Checker::claim_overflow(uint64_t pgno, uint32_t dsize, Counts* counts) {
  if (pgno < kMetaPages || pgno >= file_pages_ || pgno > meta_.last_pg) {
    return fail(fmt::format("an overflow reference points at page {}, outside the file", pgno));
  }
  const uint8_t* p = base_ + pgno * psize_;
  uint64_t pages = load<uint32_t>(p + 12);
  uint64_t needed = (kPageHeader - 1 + uint64_t{dsize}) / psize_ + 1;  // OVPAGES
  if (load<uint64_t>(p) != pgno || load<uint16_t>(p + 10) != kPageOverflow || pages < needed ||
      pgno + pages > file_pages_ || pgno + pages - 1 > meta_.last_pg) {
    return fail(fmt::format("overflow page {} is damaged or too short", pgno));
  }
  for (uint64_t i = 0; i < pages; ++i) {
    if (!claim(pgno + i)) return false;
  }
  counts->overflow += pages;
  return true;
}

bool Checker::free_record(uint64_t pgno, const Node& node, Counts* counts) {
  if ((node.flags & ~kNodeBigData) != 0 || node.ksize != 8) {
    return fail(fmt::format("free-page tree: page {} has a malformed record", pgno));
  }
  std::string_view data;
  if (!leaf_data(pgno, node, counts, &data)) return false;
  const uint8_t* d = reinterpret_cast<const uint8_t*>(data.data());
  if (data.size() < 8 || data.size() % 8 != 0 || load<uint64_t>(d) != data.size() / 8 - 1) {
    return fail(fmt::format("free-page tree: page {} has a malformed page list", pgno));
  }
  uint64_t prev = kNoPage;
  for (size_t k = 8; k < data.size(); k += 8) {
    uint64_t free_pgno = load<uint64_t>(d + k);
    if (free_pgno >= prev) return fail("free-page tree: a page list is not sorted");
    prev = free_pgno;
    free_.push_back(free_pgno);
  }
  return true;
}

bool Checker::named_db(uint64_t pgno, const Node& node) {
  uint32_t dsize = node.lo | (uint32_t{node.hi} << 16);
  if (node.flags != kNodeSubData || dsize != kDbBytes || node.room < kDbBytes || node.ksize == 0) {
    return fail(fmt::format("main tree: page {} has a record that is not a named database", pgno));
  }
  std::string name(reinterpret_cast<const char*>(node.key), node.ksize);
  named_.push_back({"database '" + name + "'", parse_db(node.data), TreeKind::kNamed});
  return true;
}

bool Checker::check_free_pages() {
  std::vector<uint64_t> past_end;
  for (uint64_t pgno : free_) {
    if (pgno < kMetaPages || pgno > meta_.last_pg) {
      return fail(fmt::format("free-page tree lists page {}, outside 2..{}", pgno, meta_.last_pg));
    }
    if (pgno >= file_pages_) {
      past_end.push_back(pgno);
      continue;
    }
    if (seen_[pgno] != 0) {
      return fail(fmt::format("page {} is listed as free but is {}", pgno,
                              seen_[pgno] == 1 ? "in use" : "listed twice"));
    }
    seen_[pgno] = 2;
  }
  std::sort(past_end.begin(), past_end.end());
  if (std::adjacent_find(past_end.begin(), past_end.end()) != past_end.end()) {
    return fail("the free-page tree lists a page twice");
  }
  uint64_t tail = meta_.last_pg + 1 > file_pages_ ? meta_.last_pg + 1 - file_pages_ : 0;
  if (past_end.size() != tail) {
    return fail(fmt::format("the file ends at page {} but the last page is {}", file_pages_,
                            meta_.last_pg));
  }
  return true;
}

/// A read-only shared mapping of a whole file; unmapped on destruction.
class Mapping {
 public:
  Mapping(void* addr, size_t size) : addr_(addr), size_(size) {}
  ~Mapping() {
    if (addr_ != MAP_FAILED) munmap(addr_, size_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  const uint8_t* data() const { return static_cast<const uint8_t*>(addr_); }

 private:
  void* addr_;
  size_t size_;
};

}  // namespace

Result<LmdbFileCheck> check_lmdb_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return LmdbFileCheck{};
    return Status::Error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  struct stat st;
  int rc = fstat(fd, &st);
  if (rc != 0 || st.st_size == 0) {
    ::close(fd);
    if (rc != 0) return Status::Error(fmt::format("cannot stat {}", path));
    return LmdbFileCheck{};
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* addr = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (addr == MAP_FAILED) {
    return Status::Error(fmt::format("cannot map {}: {}", path, std::strerror(errno)));
  }
  Mapping mapping(addr, size);
  return Checker(mapping.data(), size).run();
}

}  // namespace dbuild
