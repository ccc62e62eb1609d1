#include "wire/layout.h"

#include "wire/attributes.h"

#include <algorithm>
#include <cstring>

namespace ferrohsm::wire {
namespace {

template <typename T>
T& at(void* base, size_t off) {
  return *reinterpret_cast<T*>(static_cast<uint8_t*>(base) + off);
}
template <typename T>
const T& at(const void* base, size_t off) {
  return *reinterpret_cast<const T*>(static_cast<const uint8_t*>(base) + off);
}

uint64_t byte_length(const FieldSpec& f, uint64_t len) { return f.bits ? (len + 7) / 8 : len; }

Status spend(uint64_t& budget, uint64_t n) {
  if (n > budget) return make_error(CKR_MECHANISM_PARAM_INVALID, "a mechanism parameter is larger than a message may be");
  budget -= n;
  return {};
}

// Writes what the callee produced into the caller's buffer — only where it differs, so
// that an input the caller keeps in read-only memory (a decryption's IV) is never written.
void copy_changed(uint8_t* p, size_t room, const std::string& data) {
  size_t n = std::min(room, data.size());
  if (p != nullptr && n != 0 && std::memcmp(p, data.data(), n) != 0) std::memcpy(p, data.data(), n);
}

// The layout a Tagged field's pointee has, or nullptr for plain bytes.
const Layout* tagged_layout(const FieldSpec& f, const void* base) {
  return f.pick != nullptr ? f.pick(at<CK_ULONG>(base, f.tag_off)) : nullptr;
}

}  // namespace

void* Storage::block(size_t size) {
  size_t words = (size + sizeof(uint64_t) - 1) / sizeof(uint64_t);
  blocks_.push_back(std::make_unique<uint64_t[]>(words == 0 ? 1 : words));  // value-initialised: zeroed
  return blocks_.back().get();
}

uint8_t* Storage::bytes(const std::string& data, size_t capacity) {
  auto* p = static_cast<uint8_t*>(block(capacity > data.size() ? capacity : data.size()));
  if (!data.empty()) std::memcpy(p, data.data(), data.size());
  return p;
}

Status encode(const Layout& l, const void* base, google::protobuf::RepeatedPtrField<Field>* out, uint64_t& budget) {
  for (const FieldSpec& f : l.fields) {
    Field* o = out->Add();
    switch (f.kind) {
      case FieldKind::Ulong: o->set_u(at<CK_ULONG>(base, f.off)); break;
      case FieldKind::Bool: o->set_u(at<CK_BBOOL>(base, f.off)); break;
      case FieldKind::Inline:
        o->set_data(static_cast<const char*>(base) + f.off, f.n);
        break;
      case FieldKind::Bytes:
      case FieldKind::BytesOut: {
        const void* p = at<const void*>(base, f.off);
        CK_ULONG len = at<CK_ULONG>(base, f.len_off);
        o->set_len(len);
        if (p == nullptr) {
          o->set_null(true);
        } else {
          const uint64_t n = byte_length(f, len);
          FH_TRY(spend(budget, n));
          o->set_data(static_cast<const char*>(p), n);
        }
        break;
      }
      case FieldKind::FixedOut: {
        const void* p = at<const void*>(base, f.off);
        if (p == nullptr) o->set_null(true);
        else o->set_data(static_cast<const char*>(p), f.n);
        break;
      }
      case FieldKind::Array: {
        const uint8_t* p = at<const uint8_t*>(base, f.off);
        CK_ULONG count = at<CK_ULONG>(base, f.len_off);
        o->set_len(count);
        if (p == nullptr) {
          o->set_null(true);
          break;
        }
        FH_TRY(spend(budget, static_cast<uint64_t>(count) * f.sub->size));
        for (CK_ULONG i = 0; i < count; ++i) FH_TRY(encode(*f.sub, p + i * f.sub->size, o->add_items()->mutable_items(), budget));
        break;
      }
      case FieldKind::Tagged: {
        const void* p = at<const void*>(base, f.off);
        CK_ULONG len = at<CK_ULONG>(base, f.len_off);
        o->set_len(len);
        const Layout* sub = tagged_layout(f, base);
        if (p == nullptr) {
          o->set_null(true);
        } else if (sub != nullptr && len == sub->size) {
          FH_TRY(encode(*sub, p, o->add_items()->mutable_items(), budget));
        } else {  // plain bytes, or a length that fits no layout: the callee will refuse it
          FH_TRY(spend(budget, len));
          o->set_data(static_cast<const char*>(p), len);
        }
        break;
      }
      case FieldKind::Template: {
        const auto* p = at<const CK_ATTRIBUTE*>(base, f.off);
        CK_ULONG count = at<CK_ULONG>(base, f.len_off);
        o->set_len(count);
        if (p == nullptr) o->set_null(true);
        else FH_TRY(encode_template(p, count, o->mutable_attrs(), budget));
        break;
      }
      case FieldKind::HandleOut:
        if (at<const void*>(base, f.off) == nullptr) o->set_null(true);
        break;
    }
  }
  return {};
}

void* rebuild(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, Storage& storage,
              std::string& why) {
  if (static_cast<size_t>(in.size()) != l.fields.size()) {
    why = std::string(l.name) + ": " + std::to_string(in.size()) + " fields where the layout has " +
          std::to_string(l.fields.size());
    return nullptr;
  }
  void* base = storage.block(l.size);
  for (size_t i = 0; i < l.fields.size(); ++i) {
    const FieldSpec& f = l.fields[i];
    const Field& o = in[static_cast<int>(i)];
    switch (f.kind) {
      case FieldKind::Ulong: at<CK_ULONG>(base, f.off) = static_cast<CK_ULONG>(o.u()); break;
      case FieldKind::Bool: at<CK_BBOOL>(base, f.off) = static_cast<CK_BBOOL>(o.u()); break;
      case FieldKind::Inline:
        if (o.data().size() != f.n) {
          why = std::string(l.name) + ": an inline field of the wrong size";
          return nullptr;
        }
        std::memcpy(static_cast<uint8_t*>(base) + f.off, o.data().data(), f.n);
        break;
      case FieldKind::Bytes:
      case FieldKind::BytesOut:
        at<CK_ULONG>(base, f.len_off) = static_cast<CK_ULONG>(o.len());
        if (!o.null()) {
          if (o.data().size() != byte_length(f, o.len())) {
            why = std::string(l.name) + ": a buffer whose length disagrees with its data";
            return nullptr;
          }
          at<uint8_t*>(base, f.off) = storage.bytes(o.data(), o.data().size());
        }
        break;
      case FieldKind::FixedOut:
        if (!o.null()) {
          if (o.data().size() != f.n) {
            why = std::string(l.name) + ": a fixed buffer of the wrong size";
            return nullptr;
          }
          at<uint8_t*>(base, f.off) = storage.bytes(o.data(), f.n);
        }
        break;
      case FieldKind::Array: {
        at<CK_ULONG>(base, f.len_off) = static_cast<CK_ULONG>(o.len());
        if (o.null()) break;
        if (static_cast<uint64_t>(o.items_size()) != o.len()) {
          why = std::string(l.name) + ": an array whose count disagrees with its items";
          return nullptr;
        }
        auto* arr = static_cast<uint8_t*>(storage.block(f.sub->size * (o.len() == 0 ? 1 : o.len())));
        for (int k = 0; k < o.items_size(); ++k) {
          void* elem = rebuild(*f.sub, o.items(k).items(), storage, why);
          if (elem == nullptr) return nullptr;
          std::memcpy(arr + static_cast<size_t>(k) * f.sub->size, elem, f.sub->size);
        }
        at<uint8_t*>(base, f.off) = arr;
        break;
      }
      case FieldKind::Tagged: {
        at<CK_ULONG>(base, f.len_off) = static_cast<CK_ULONG>(o.len());
        if (o.null()) break;
        if (o.items_size() == 1) {  // a structure, by the layout its tag names
          const Layout* sub = tagged_layout(f, base);
          if (sub == nullptr || o.len() != sub->size) {
            why = std::string(l.name) + ": a tagged structure that fits no layout";
            return nullptr;
          }
          void* p = rebuild(*sub, o.items(0).items(), storage, why);
          if (p == nullptr) return nullptr;
          at<void*>(base, f.off) = p;
        } else {
          if (o.data().size() != o.len()) {
            why = std::string(l.name) + ": a buffer whose length disagrees with its data";
            return nullptr;
          }
          at<uint8_t*>(base, f.off) = storage.bytes(o.data(), o.data().size());
        }
        break;
      }
      case FieldKind::Template: {
        at<CK_ULONG>(base, f.len_off) = static_cast<CK_ULONG>(o.len());
        if (o.null()) break;
        CK_ATTRIBUTE* attrs = rebuild_template(o.attrs(), o.len(), storage, why);
        if (attrs == nullptr) return nullptr;
        at<CK_ATTRIBUTE*>(base, f.off) = attrs;
        break;
      }
      case FieldKind::HandleOut:
        if (!o.null()) at<CK_OBJECT_HANDLE*>(base, f.off) = static_cast<CK_OBJECT_HANDLE*>(storage.block(sizeof(CK_OBJECT_HANDLE)));
        break;
    }
  }
  return base;
}

void fill(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, void* base) {
  if (static_cast<size_t>(in.size()) != l.fields.size()) return;
  for (size_t i = 0; i < l.fields.size(); ++i) {
    const FieldSpec& f = l.fields[i];
    const Field& o = in[static_cast<int>(i)];
    switch (f.kind) {
      case FieldKind::Ulong: at<CK_ULONG>(base, f.off) = static_cast<CK_ULONG>(o.u()); break;
      case FieldKind::Bool: at<CK_BBOOL>(base, f.off) = static_cast<CK_BBOOL>(o.u()); break;
      case FieldKind::Inline:
        std::memcpy(static_cast<uint8_t*>(base) + f.off, o.data().data(), std::min(f.n, o.data().size()));
        break;
      default:
        break;  // pointers have no place in an output structure
    }
  }
}

bool has_outputs(const Layout& l) {
  for (const FieldSpec& f : l.fields) {
    if (f.kind == FieldKind::BytesOut || f.kind == FieldKind::FixedOut || f.kind == FieldKind::HandleOut) return true;
    if (f.kind == FieldKind::Array && has_outputs(*f.sub)) return true;
  }
  return false;
}

void encode_outputs(const Layout& l, const void* base, google::protobuf::RepeatedPtrField<Field>* out) {
  for (const FieldSpec& f : l.fields) {
    Field* o = out->Add();
    switch (f.kind) {
      case FieldKind::BytesOut: {
        const void* p = at<const void*>(base, f.off);
        if (p != nullptr) o->set_data(static_cast<const char*>(p), byte_length(f, at<CK_ULONG>(base, f.len_off)));
        break;
      }
      case FieldKind::FixedOut: {
        const void* p = at<const void*>(base, f.off);
        if (p != nullptr) o->set_data(static_cast<const char*>(p), f.n);
        break;
      }
      case FieldKind::HandleOut: {
        const auto* p = at<const CK_OBJECT_HANDLE*>(base, f.off);
        if (p != nullptr) o->set_u(*p);
        break;
      }
      case FieldKind::Array: {
        const uint8_t* p = at<const uint8_t*>(base, f.off);
        if (p == nullptr || !has_outputs(*f.sub)) break;
        CK_ULONG count = at<CK_ULONG>(base, f.len_off);
        for (CK_ULONG i = 0; i < count; ++i) encode_outputs(*f.sub, p + i * f.sub->size, o->add_items()->mutable_items());
        break;
      }
      default:
        break;
    }
  }
}

void write_back(const Layout& l, const google::protobuf::RepeatedPtrField<Field>& in, void* base) {
  if (static_cast<size_t>(in.size()) != l.fields.size()) return;  // nothing came back for this structure
  for (size_t i = 0; i < l.fields.size(); ++i) {
    const FieldSpec& f = l.fields[i];
    const Field& o = in[static_cast<int>(i)];
    switch (f.kind) {
      case FieldKind::BytesOut:
        copy_changed(at<uint8_t*>(base, f.off), byte_length(f, at<CK_ULONG>(base, f.len_off)), o.data());
        break;
      case FieldKind::FixedOut:
        copy_changed(at<uint8_t*>(base, f.off), f.n, o.data());
        break;
      case FieldKind::HandleOut: {
        auto* p = at<CK_OBJECT_HANDLE*>(base, f.off);
        if (p != nullptr) *p = static_cast<CK_OBJECT_HANDLE>(o.u());
        break;
      }
      case FieldKind::Array: {
        auto* p = at<uint8_t*>(base, f.off);
        CK_ULONG count = at<CK_ULONG>(base, f.len_off);
        if (p == nullptr || static_cast<uint64_t>(o.items_size()) != count) break;
        for (CK_ULONG i = 0; i < count; ++i) write_back(*f.sub, o.items(static_cast<int>(i)).items(), p + i * f.sub->size);
        break;
      }
      default:
        break;
    }
  }
}

}  // namespace ferrohsm::wire
