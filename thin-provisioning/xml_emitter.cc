#include "thin-provisioning/xml_emitter.h"

#include "base/xml_text.h"

namespace thin {
namespace {

class xml_emitter : public emitter {
public:
	explicit xml_emitter(base::output_sink &out) : o_(out) {}

	void begin_superblock(const superblock_info &sb) override {
		o_.put("<superblock uuid=\"").put(base::xml_escape(sb.uuid));
		o_.put("\" time=\"").put_u64(sb.time);
		o_.put("\" transaction=\"").put_u64(sb.transaction);
		o_.put("\" flags=\"").put_u64(sb.flags);
		o_.put("\" version=\"").put_u64(sb.version);
		o_.put("\" data_block_size=\"").put_u64(sb.data_block_size);
		o_.put("\" nr_data_blocks=\"").put_u64(sb.nr_data_blocks);
		if (sb.metadata_snap)
			o_.put("\" metadata_snap=\"").put_u64(*sb.metadata_snap);
		o_.put("\">\n");
	}

	void end_superblock() override { o_.put("</superblock>\n"); }

	void begin_device(uint64_t dev_id, const device_details &d) override {
		o_.put("  <device dev_id=\"").put_u64(dev_id);
		o_.put("\" mapped_blocks=\"").put_u64(d.mapped_blocks);
		o_.put("\" transaction=\"").put_u64(d.transaction_id);
		o_.put("\" creation_time=\"").put_u64(d.creation_time);
		o_.put("\" snap_time=\"").put_u64(d.snapshotted_time);
		o_.put("\">\n");
	}

	void end_device() override { o_.put("  </device>\n"); }

	void range_map(uint64_t origin_begin, uint64_t data_begin, uint32_t time,
	               uint64_t len) override {
		o_.put("    <range_mapping origin_begin=\"").put_u64(origin_begin);
		o_.put("\" data_begin=\"").put_u64(data_begin);
		o_.put("\" length=\"").put_u64(len);
		o_.put("\" time=\"").put_u64(time);
		o_.put("\"/>\n");
	}

	void single_map(uint64_t origin_block, uint64_t data_block, uint32_t time) override {
		o_.put("    <single_mapping origin_block=\"").put_u64(origin_block);
		o_.put("\" data_block=\"").put_u64(data_block);
		o_.put("\" time=\"").put_u64(time);
		o_.put("\"/>\n");
	}

private:
	base::output_sink &o_;
};

class human_emitter : public emitter {
public:
	explicit human_emitter(base::output_sink &out) : o_(out) {}

	void begin_superblock(const superblock_info &sb) override {
		o_.put("begin superblock: \"").put(sb.uuid).put("\", ").put_u64(sb.time);
		o_.put(", ").put_u64(sb.transaction).put(", ").put_u64(sb.flags);
		o_.put(", ").put_u64(sb.version).put(", ").put_u64(sb.data_block_size);
		o_.put(", ").put_u64(sb.nr_data_blocks);
		if (sb.metadata_snap)
			o_.put(", ").put_u64(*sb.metadata_snap);
		o_.put("\n");
	}

	void end_superblock() override { o_.put("end superblock\n"); }

	void begin_device(uint64_t dev_id, const device_details &d) override {
		o_.put("device: ").put_u64(dev_id).put("\n");
		o_.put("mapped_blocks: ").put_u64(d.mapped_blocks).put("\n");
		o_.put("transaction: ").put_u64(d.transaction_id).put("\n");
		o_.put("creation time: ").put_u64(d.creation_time).put("\n");
		o_.put("snap time: ").put_u64(d.snapshotted_time).put("\n");
	}

	void end_device() override { o_.put("\n"); }

	void range_map(uint64_t origin_begin, uint64_t data_begin, uint32_t time,
	               uint64_t len) override {
		o_.put("    (").put_u64(origin_begin).put("..").put_u64(origin_begin + len - 1);
		o_.put(") -> (").put_u64(data_begin).put("..").put_u64(data_begin + len - 1);
		o_.put("), ").put_u64(time).put("\n");
	}

	void single_map(uint64_t origin_block, uint64_t data_block, uint32_t time) override {
		o_.put("    ").put_u64(origin_block).put(" -> ").put_u64(data_block);
		o_.put(", ").put_u64(time).put("\n");
	}

private:
	base::output_sink &o_;
};

} // namespace

std::unique_ptr<emitter> make_xml_emitter(base::output_sink &out) {
	return std::make_unique<xml_emitter>(out);
}

std::unique_ptr<emitter> make_human_emitter(base::output_sink &out) {
	return std::make_unique<human_emitter>(out);
}

} // namespace thin
