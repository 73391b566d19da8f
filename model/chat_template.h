// Chat templates of the families seer supports, as fixed renderers that reproduce the Jinja templates
// byte for byte (transformers' apply_chat_template with trim_blocks/lstrip_blocks): Qwen3 (ChatML with
// thinking and tools), Qwen2-VL (ChatML with a default system prompt and image items), plain ChatML,
// Llama-3 (with and without the optional generation prompt), Llama-2-chat, and LLaVA-1.5 / Vicuna. The
// family is recognised from a tokenizer_config.json template or chosen by name.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace seer::model {

enum class ChatFamily { kQwen3, kQwen2Vl, kChatml, kLlama3, kLlama3AlwaysPrompt, kLlama2, kLlava, kVicuna };

struct ChatPart {
  enum Kind { kText, kImage } kind = kText;
  std::string text;
};

struct ChatMessage {
  std::string role;                              ///< system | user | assistant | tool
  std::vector<ChatPart> parts;                   ///< text and image items, in order
  std::optional<std::string> reasoning_content;  ///< Qwen3: explicit thinking of an assistant turn
  nlohmann::ordered_json tool_calls;             ///< Qwen3: the assistant's tool calls (array) or null
  /// The message's text with image items written as the family's image string.
  std::string text(ChatFamily family) const;
};

struct ChatOptions {
  bool add_generation_prompt = false;
  std::optional<bool> enable_thinking;  ///< Qwen3: false adds an empty <think></think> to the generation prompt
  nlohmann::ordered_json tools;         ///< Qwen3: tool definitions (array) or null
  std::string bos_token, eos_token;
};

/// The family whose renderer reproduces `chat_template` (from tokenizer_config.json). Throws seer::Error
/// naming what is unknown ("set model.chat_template to a family").
ChatFamily detect_chat_family(const std::string& chat_template);

/// A family by its config name: chatml, qwen3, qwen2vl, llama3, llama2, llava, vicuna. Throws seer::Error.
ChatFamily chat_family_by_name(const std::string& name);

/// What an image item renders as in `family` ("<image>" for LLaVA, vision_start/image_pad/vision_end for Qwen).
std::string image_placeholder(ChatFamily family);

/// The conversation rendered as text. Throws seer::Error for conversations the template rejects
/// (Llama-2: roles must alternate user/assistant).
std::string render_chat(ChatFamily family, const std::vector<ChatMessage>& messages, const ChatOptions& options);

/// JSON as Python's json.dumps(ensure_ascii=False) writes it (", " and ": " separators, keys in order):
/// the `tojson` filter of transformers' template environment.
std::string python_json(const nlohmann::ordered_json& value);

/// Messages from the OpenAI / transformers JSON form ({"role", "content": string or [{"type": "image"},
/// {"type": "text", "text"}], "reasoning_content"?, "tool_calls"?}). Throws seer::Error naming the message.
std::vector<ChatMessage> messages_from_json(const nlohmann::ordered_json& messages);

}  // namespace seer::model
